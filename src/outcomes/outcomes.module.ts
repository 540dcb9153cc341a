import { Module } from '@nestjs/common';
import { OutcomesController } from './outcomes.controller.js';
import { OutcomesRepository } from './outcomes.repository.js';
import { OutcomesService } from './outcomes.service.js';

@Module({ controllers: [OutcomesController], providers: [OutcomesRepository, OutcomesService] })
export class OutcomesModule {}
